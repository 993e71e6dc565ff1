// graphql-ws on wskit: its `useServer` (written for ws) on a wskit WebSocketServer, driven by its own
// client with wskit's WebSocket, then ws's, as `webSocketImpl`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket as WsWebSocket } from 'ws';
import { WebSocket, type WebSocketServer } from '../../../src/index.js';
import { closeServer, next, recordClose, within, wskitServer } from '../../node/helpers.js';

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      hello: {
        type: GraphQLString,
        args: { name: { type: GraphQLString } },
        resolve: (_, { name }: { name?: string }) => `hello ${name ?? 'world'}`,
      },
      boom: {
        type: GraphQLString,
        resolve: () => {
          throw new Error('the resolver failed');
        },
      },
    },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      count: {
        type: GraphQLInt,
        args: { to: { type: new GraphQLNonNull(GraphQLInt) } },
        subscribe: async function* (_, { to }: { to: number }) {
          for (let i = 1; i <= to; i++) yield { count: i };
        },
      },
    },
  }),
});

/** Every result of one operation, until it completes (or fails). */
async function collect(client: Client, query: string): Promise<unknown[]> {
  const results: unknown[] = [];
  const iterator = client.iterate({ query });
  await within(
    (async () => {
      for await (const result of iterator) results.push(result);
    })(),
    `the results of ${query}`,
  );
  return results;
}

describe('graphql-ws useServer on a wskit WebSocketServer', () => {
  let wss: WebSocketServer;
  let url: string;
  let server: ReturnType<typeof useServer>;

  before(async () => {
    ({ wss, url } = await wskitServer());
    // useServer is typed for ws's server class (@types/ws); wskit's has the members it uses.
    server = useServer({ schema }, wss as unknown as Parameters<typeof useServer>[1]);
  });
  after(() => closeServer(wss));

  for (const [name, Impl] of [
    ['wskit', WebSocket],
    ['ws', WsWebSocket],
  ] as const) {
    describe(`client webSocketImpl: ${name}'s WebSocket`, () => {
      let client: Client;
      before(() => {
        client = createClient({ url, webSocketImpl: Impl, retryAttempts: 0 });
      });
      after(() => client.dispose());

      it('answers a query, on the graphql-transport-ws subprotocol', async () => {
        const opened = new Promise<{ protocol: string }>((resolve) => client.on('opened', resolve as never));
        const results = await collect(client, '{ hello(name: "wskit") }');
        assert.deepEqual(results, [{ data: { hello: 'hello wskit' } }]);
        assert.equal((await opened).protocol, 'graphql-transport-ws');
      });

      it('streams a subscription, then completes it', async () => {
        const results = await collect(client, 'subscription { count(to: 4) }');
        assert.deepEqual(
          results,
          [1, 2, 3, 4].map((count) => ({ data: { count } })),
        );
      });

      it('reports a resolver error in the result, and a validation error as an error', async () => {
        const failed = await collect(client, '{ boom }');
        assert.equal(failed.length, 1);
        const { data, errors } = failed[0] as { data: unknown; errors: { message: string }[] };
        assert.deepEqual(data, { boom: null });
        assert.equal(errors[0].message, 'the resolver failed');
        await assert.rejects(collect(client, '{ nope }'), (errors: unknown) => {
          assert.ok(Array.isArray(errors));
          assert.match(errors[0].message, /Cannot query field "nope"/);
          return true;
        });
      });
    });
  }

  it('closes a connection that offers no graphql-transport-ws subprotocol with 4406 (its checks run on wskit)', async () => {
    // Without a subprotocol offered: one that offered another would fail its own handshake (a ws or
    // wskit client does not open when it asked for subprotocols and the server chose none).
    const ws = new WebSocket(url);
    const close = recordClose(ws);
    await next(ws, 'open');
    assert.equal(ws.protocol, '');
    const { code, reason } = await close;
    assert.equal(code, 4406);
    assert.match(reason, /Subprotocol not acceptable/);
  });

  it('closes every client with 1001 when disposed', async () => {
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    const closed = new Promise<{ code: number }>((resolve) => client.on('closed', resolve as never));
    await new Promise((resolve) => client.on('connected', resolve));
    await within(Promise.resolve(server.dispose()), 'useServer dispose');
    assert.equal((await within(closed, 'the client to close')).code, 1001);
    await client.dispose();
  });
});

describe('graphql-ws keepAlive on a wskit WebSocketServer', () => {
  it("pings each connection with wskit's ping() and hears the pong", async () => {
    const { wss, url } = await wskitServer();
    const keepAliveMs = 20;
    useServer({ schema }, wss as unknown as Parameters<typeof useServer>[1], keepAliveMs);
    const serverSide = next<[WebSocket]>(wss, 'connection');
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    try {
      const [socket] = await serverSide;
      // Two rounds: a missed pong would have terminated the connection after the first.
      for (let round = 0; round < 2; round++) await next(socket, 'pong');
      assert.equal(socket.readyState, WebSocket.OPEN);
      assert.deepEqual(await collect(client, '{ hello }'), [{ data: { hello: 'hello world' } }]);
    } finally {
      await client.dispose();
      await closeServer(wss);
    }
  });
});
