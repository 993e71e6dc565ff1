// What a conformance case is, and the context it runs in. A case is written once against the suite's end
// of the connection (a FramePeer) and runs against both sides of the implementation: against its server
// (the suite plays a raw client) and against its client (the suite plays a raw server). Either way the
// endpoint under test echoes every message back with the same type.
import type { FramePeer } from './frame-peer.js';
import type { Features, ImplName } from './impl.js';

export type Side = 'server' | 'client';

export interface CaseContext {
  /** The suite's end of the connection. */
  peer: FramePeer;
  /** Which side of the implementation is under test. */
  side: Side;
  /**
   * The endpoint under test has sent its Close frame (answer or failure); now the TCP connection must end.
   * Server under test: it must close TCP itself (§7.1.1) with nothing more sent. Client under test: the
   * suite's server closes TCP, as §7.1.1 has servers do, and the client must report its 'close' event —
   * with `code` (§7.1.5, the code of the Close frame it received) when given.
   */
  expectClosed(code?: number): Promise<void>;
}

export interface CaseOptions {
  /** Passed as `maxPayload` to the server or client under test. */
  maxPayload?: number;
  /** Passed as `fragmentSize` to the server or client under test. */
  fragmentSize?: number;
}

export interface ConformanceCase {
  id: string;
  title: string;
  run(ctx: CaseContext): Promise<void>;
  /** Options for the endpoint under test; the case then gets its own instance. */
  options?: CaseOptions;
  /** Run only against this side of the implementation. */
  only?: Side;
  /** Skip reason when this implementation, on this side, knowingly deviates from the RFC. */
  skip?: (impl: ImplName, side: Side) => string | undefined;
  /** An optional feature the case needs; skipped when the implementation lacks it. */
  requires?: keyof Features;
  /** Time budget for the whole case in ms (expectations time out earlier on their own). */
  timeout?: number;
}

export interface CaseGroup {
  id: string;
  title: string;
  cases: ConformanceCase[];
}

/** Skips a case for ws, naming the RFC deviation; `side` limits it to one side. */
export function wsDeviation(reason: string, side?: Side): ConformanceCase['skip'] {
  return (impl, s) =>
    impl === 'ws' && (side === undefined || side === s) ? `ws deviation: ${reason}` : undefined;
}
