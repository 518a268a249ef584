import { buildSubgraphSchema } from '@apollo/subgraph';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { buildSchema, lexicographicSortSchema, NoUnusedFragmentsRule, parse, printSchema, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { composeApiSchema } from './supergraph';

/**
 * Schema checks (docs/development.md "Schema checks"): what changed between the released baseline and
 * the current SDL, which of it breaks clients, and whether each breaking change is
 * recorded as intended in the changelog. Pure apart from composition: the CLI
 * (`scripts/schema-check.ts`) reads and writes the files.
 */

/** One change found by `@graphql-inspector/core`, and where: `api` or a subgraph's name. */
export interface SchemaChange {
  where: string;
  type: string;
  path: string;
  message: string;
}

export interface OperationProblems {
  source: string;
  problems: string[];
}

export interface SchemaCheckInput {
  /** SDL per subgraph as released (schema/baseline/<name>.graphql). */
  baselineSubgraphs: Record<string, string>;
  /** The released API schema, printed (schema/baseline/api.graphql). */
  baselineApi: string;
  /** SDL per subgraph now (schema/subgraph-sdl.ts). */
  currentSubgraphs: Record<string, string>;
  /** The changelog's text (schema/CHANGELOG.md). */
  changelog: string;
  /** Client documents that must keep validating against the current API schema. */
  operations: { source: string; document: DocumentNode }[];
}

export interface SchemaCheckReport {
  /** Breaking and not recorded as intended: the check fails. */
  unrecorded: SchemaChange[];
  /** Breaking and recorded under "## Unreleased" in the changelog. */
  recorded: SchemaChange[];
  /** Dangerous (a client may behave differently) but not breaking: shown, not failed. */
  dangerous: SchemaChange[];
  safe: SchemaChange[];
  invalidOperations: OperationProblems[];
  /** The current API schema, printed as the baseline stores it. */
  currentApi: string;
}

export const passes = (report: SchemaCheckReport): boolean => report.unrecorded.length === 0 && report.invalidOperations.length === 0;

/** Compares the current SDL with the baseline, subgraph by subgraph and as the composed API schema. */
export async function checkSchemas(input: SchemaCheckInput): Promise<SchemaCheckReport> {
  const currentApiSchema = composeApiSchema(input.currentSubgraphs);
  const changes = [
    ...(await diffSchemas('api', buildSchema(input.baselineApi), currentApiSchema)),
    ...(await subgraphChanges(input.baselineSubgraphs, input.currentSubgraphs)),
  ];
  const intended = intendedChanges(input.changelog);
  const breaking = changes.filter((change) => change.level === CriticalityLevel.Breaking);
  return {
    unrecorded: breaking.filter((change) => !intended.has(changeKey(change))),
    recorded: breaking.filter((change) => intended.has(changeKey(change))),
    dangerous: changes.filter((change) => change.level === CriticalityLevel.Dangerous),
    safe: changes.filter((change) => change.level === CriticalityLevel.NonBreaking),
    invalidOperations: input.operations
      .map(({ source, document }) => ({ source, problems: operationProblems(currentApiSchema, document) }))
      .filter((result) => result.problems.length > 0),
    currentApi: printApiSchema(currentApiSchema),
  };
}

/** How an API schema is stored in the baseline: sorted, so a reordering is no diff. */
export const printApiSchema = (schema: GraphQLSchema): string => printSchema(lexicographicSortSchema(schema)) + '\n';

/** `TYPE path`, as a changelog line names a change: e.g. `FIELD_REMOVED Query.tasks`. */
export const changeKey = (change: Pick<SchemaChange, 'type' | 'path'>): string => `${change.type} ${change.path}`;

/**
 * The changes recorded as intended: each bullet under "## Unreleased" that starts with a
 * code span `TYPE path`. Entries under a released heading no longer excuse anything.
 */
export function intendedChanges(changelog: string): Set<string> {
  const unreleased = /^## Unreleased\s*$([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(changelog)?.[1] ?? '';
  return new Set([...unreleased.matchAll(/^\s*[-*]\s+`([A-Z_]+ [^`]+)`/gm)].map((match) => match[1] ?? ''));
}

/** Validation messages of one client document against the API schema (fragments may stand unused). */
export function operationProblems(schema: GraphQLSchema, document: DocumentNode): string[] {
  const rules = specifiedRules.filter((rule) => rule !== NoUnusedFragmentsRule);
  return validate(schema, document, rules).map((error) => error.message);
}

type LevelledChange = SchemaChange & { level: CriticalityLevel };

async function subgraphChanges(baseline: Record<string, string>, current: Record<string, string>): Promise<LevelledChange[]> {
  const found: LevelledChange[] = [];
  for (const [name, sdl] of Object.entries(baseline)) {
    const now = current[name];
    if (now === undefined) {
      found.push({ where: name, type: 'SUBGRAPH_REMOVED', path: name, message: `Subgraph '${name}' was removed`, level: CriticalityLevel.Breaking });
      continue;
    }
    // Federation directives make a raw SDL diff noisy; the built subgraph schemas diff cleanly.
    found.push(...(await diffSchemas(name, buildSubgraphSchema(parse(sdl)), buildSubgraphSchema(parse(now)))));
  }
  return found;
}

async function diffSchemas(where: string, before: GraphQLSchema, after: GraphQLSchema): Promise<LevelledChange[]> {
  const changes: Change[] = await diff(before, after);
  return changes.map((change) => ({ where, type: change.type, path: change.path ?? '', message: change.message, level: change.criticality.level }));
}
