import { IDENTITY_HEADER } from '@popug/lib/identity';
import { REQUEST_ID_HEADER } from '@popug/lib/tracing/request-id';

/** The anonymous gateway statement for accounting's `connection_init`, as the bench client hands it to Hive. */
export const CONNECTION_STATEMENT_HEADER = 'x-popug-connection-statement';

/**
 * More of both Hive configs (bench/gateway/hive.ts) for the live section: accounting's
 * subscriptions over graphql-ws at its /graphql (Hive's `ws` transport, one socket per
 * distinct connectionParams, so one for every subscriber), and a plugin that puts our
 * subgraphs' signed statements where they look for them. Hive has no notion of our
 * statements, so the bench client signs them (as the gateway section's clients do for
 * queries: Hive does no identity work) and the plugin moves them from the client's headers:
 * the caller's statement and request id into the subscribe's `extensions`, and an anonymous
 * statement into `extensions.connectionParams`, which Hive's graphql-ws executor merges into
 * the `connection_init` payload of the socket it opens (@graphql-tools/executor-graphql-ws).
 */
export const HIVE_LIVE_CONFIG = `transportEntries: {
    accounting: { options: { subscriptions: { kind: 'ws', location: '/graphql' } } },
  },
  plugins: () => [
    {
      onSubgraphExecute({ executionRequest, setExecutionRequest }) {
        const headers = executionRequest.context?.request?.headers;
        const statement = headers?.get('${IDENTITY_HEADER}');
        const operation = executionRequest.operationType ?? executionRequest.document.definitions.find((definition) => definition.kind === 'OperationDefinition')?.operation;
        if (!statement || operation !== 'subscription') return;
        const requestId = headers.get('${REQUEST_ID_HEADER}') ?? '';
        const connectionParams = { statement: headers.get('${CONNECTION_STATEMENT_HEADER}') ?? '', requestId };
        setExecutionRequest({ ...executionRequest, extensions: { ...executionRequest.extensions, statement, requestId, connectionParams } });
      },
    },
  ],`;
