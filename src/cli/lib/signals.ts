// How a long-running command (control-plane, proxy) waits to be stopped.

/** Resolves at the first SIGINT or SIGTERM; the handlers are removed then. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
