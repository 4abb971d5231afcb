// End of the turn: writers that hold this turn's bytes (SocketWriter.writeSoon for HTTP/1.1
// messages, the HTTP/2 codec's H2Output for frames) register here once per turn and are flushed
// together by one setImmediate, after every read callback of the turn has run: a turn that answers
// several requests sends one write per socket, not one per message.

/** What end-of-turn flushes: anything that holds bytes until the turn ends. */
export interface TurnFlushable {
  flush(): void;
}

let due: TurnFlushable[] = [];
let spareDue: TurnFlushable[] = [];
let flushScheduled = false;

function flushDue(): void {
  flushScheduled = false;
  const fs = due;
  due = spareDue;
  for (let i = 0; i < fs.length; i++) (fs[i] as TurnFlushable).flush();
  fs.length = 0;
  spareDue = fs;
}

/** Flush `f` when this turn ends. The caller registers each writer at most once per turn. */
export function flushAtEndOfTurn(f: TurnFlushable): void {
  due.push(f);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushDue);
  }
}
