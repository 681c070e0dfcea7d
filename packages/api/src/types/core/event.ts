/** core/v1 Event: what `kubectl describe` lists under "Events". */
import type { KubeObject, MicroTime, Time } from "../meta/v1.js";
import type { ObjectReference } from "./common.js";

export interface EventSource {
  component?: string;
  host?: string;
}

export interface Event extends KubeObject {
  apiVersion?: "v1";
  kind?: "Event";
  involvedObject: ObjectReference;
  reason?: string;
  message?: string;
  source?: EventSource;
  firstTimestamp?: Time | null;
  lastTimestamp?: Time | null;
  count?: number;
  /** "Normal" or "Warning". */
  type?: string;
  eventTime?: MicroTime | null;
  series?: { count?: number; lastObservedTime?: MicroTime };
  action?: string;
  related?: ObjectReference;
  reportingComponent?: string;
  reportingInstance?: string;
}
