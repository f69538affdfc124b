/**
 * Stopping a long command without losing its work.
 *
 * Ctrl-C, SIGTERM, and the reader of our output going away all ask a training command to save
 * its state after the current step and exit 130; a second signal quits at once. The third case
 * matters more than it looks: in `propetl train ... | tee log`, Ctrl-C reaches tee too, and
 * without this the first progress line written after tee died would end the run with EPIPE
 * before the state was saved. Commands with no run to save simply exit when their reader goes.
 */

type StopHandler = () => void;

let outputClosed = false;
let stopHandler: StopHandler | undefined;

function isBrokenPipe(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED";
}

/**
 * Install once, before any command runs: a broken stdout/stderr pipe becomes a stop request
 * (or, when no run is in progress, a quiet exit with 141, the status of a SIGPIPE death).
 */
export function watchOutputStreams(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: unknown) => {
      if (!isBrokenPipe(e)) throw e;
      if (outputClosed) return;
      outputClosed = true;
      if (stopHandler) stopHandler();
      else process.exit(141);
    });
  }
}

export interface StopRequest {
  /** Aborted on the first Ctrl-C / SIGTERM / closed output. */
  readonly signal: AbortSignal;
  /** Remove the handlers (call in `finally`). */
  dispose(): void;
}

/**
 * Route interrupts to `signal` for the duration of a run. `warn` tells the user what happens;
 * it is skipped once the output is gone.
 */
export function stopOnInterrupt(warn: (message: string) => void): StopRequest {
  const ctl = new AbortController();
  let signals = 0;
  const request = (why: string): void => {
    if (ctl.signal.aborted) return;
    if (!outputClosed) warn(`${why}: saving the training state after this step (Ctrl-C again to quit at once)`);
    ctl.abort();
  };
  // Only a second *signal* quits at once: a closed pipe often comes with the first Ctrl-C.
  const onSignal = (): void => {
    if (++signals > 1) process.exit(130);
    request("interrupt");
  };
  const onOutputClosed = (): void => request("output closed");
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  stopHandler = onOutputClosed;
  if (outputClosed) onOutputClosed();
  return {
    signal: ctl.signal,
    dispose(): void {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (stopHandler === onOutputClosed) stopHandler = undefined;
    },
  };
}
