/** `coxswain apiserver [flags]`: parses flags, starts an API server, stops on SIGTERM/SIGINT. */
import { ApiServerConfigError, apiServerUsage, parseApiServerFlags } from "./config.js";
import { ApiServer } from "./apiserver.js";

export async function runApiServerCommand(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseApiServerFlags(argv);
  } catch (err) {
    if (err instanceof ApiServerConfigError) {
      console.error(`coxswain apiserver: ${err.message}\n\nRun 'coxswain apiserver --help' for the flags.`);
      return 2;
    }
    throw err;
  }
  if (config.help) {
    console.log(apiServerUsage());
    return 0;
  }
  process.env["COXSWAIN_LOG_LEVEL"] ??= config.logLevel;
  const server = new ApiServer(config);
  await server.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      server.logger.info({ signal }, "stopping");
      server.stop().then(resolve, () => resolve());
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  return 0;
}
