/**
 * The requests a session sends and waits for an answer to (by id, one connection's), and how a
 * refusal of each is told: the error's message names what was refused.
 */
import { TopicsError } from './errors.js';
import type { PendingPublish } from './publish-buffer.js';
import type { Subscription } from './subscription.js';
import type { Member, Position } from './wire.js';

export type AnySubscription = Subscription<unknown, unknown>;

export interface PresenceQuery {
  topic: string;
  resolve: (members: Member[]) => void;
  reject: (error: TopicsError) => void;
}

export type Request =
  | { kind: 'subscribe'; subscription: AnySubscription; since: Position | null }
  | { kind: 'unsubscribe'; topic: string; repair: boolean; done: (() => void) | null }
  | { kind: 'publish'; entry: PendingPublish }
  | { kind: 'presence'; query: PresenceQuery }
  | { kind: 'ping' };

/** The topic a request is about. */
function topicOf(request: Request | undefined): string | undefined {
  switch (request?.kind) {
    case 'subscribe':
      return request.subscription.topic;
    case 'publish':
      return request.entry.topic;
    case 'presence':
      return request.query.topic;
    case 'unsubscribe':
      return request.topic;
    default:
      return undefined;
  }
}

/** The error for a request the server answered with `error` (code and message from the server). */
export function refusal(request: Request | undefined, code: string, message: string): TopicsError {
  return new TopicsError(
    'TOPICS_ERR_SERVER',
    `The server refused ${describeRequest(request)}: ${message} (${code})`,
    {
      serverCode: code,
      topic: topicOf(request),
    },
  );
}

export type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

export function closedError(): TopicsError {
  return new TopicsError('TOPICS_ERR_CLOSED', 'The client is closed: create a new TopicsClient');
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function describeRequest(request: Request | undefined): string {
  switch (request?.kind) {
    case 'subscribe':
      return `the subscription to ${JSON.stringify(request.subscription.topic)}`;
    case 'publish':
      return `a publish to ${JSON.stringify(request.entry.topic)}`;
    case 'presence':
      return `the presence query of ${JSON.stringify(request.query.topic)}`;
    case 'unsubscribe':
      return `leaving ${JSON.stringify(request.topic)}`;
    default:
      return 'a request';
  }
}
