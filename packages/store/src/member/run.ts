/** `coxswain store [etcd flags]`: parses flags, starts a member, stops it cleanly on SIGTERM/SIGINT. */
import { ConfigError, parseStoreFlags, storeUsage } from "./config.js";
import { StoreMember } from "./member.js";

export async function runStoreCommand(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseStoreFlags(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`coxswain store: ${err.message}\n\nRun 'coxswain store --help' for the flags.`);
      return 2;
    }
    throw err;
  }
  if (config.help) {
    console.log(storeUsage());
    return 0;
  }
  process.env["COXSWAIN_LOG_LEVEL"] ??= config.logLevel;
  const member = await StoreMember.start(config);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      member.logger.info({ signal }, "stopping");
      member.stop().then(resolve, (err: unknown) => {
        member.logger.error({ err }, "error while stopping");
        resolve();
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  return 0;
}
