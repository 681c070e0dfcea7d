/**
 * Side-effect module: applies the 64-bit integer policy before any generated module loads, so
 * that the generated prototypes' defaults for 64-bit fields are numbers, not Long objects.
 * index.ts imports this first (ES modules evaluate imports in order).
 */
import { configureLongs } from "./longs.js";

configureLongs();
