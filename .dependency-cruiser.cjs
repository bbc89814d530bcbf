// The layer map of src/ (docs/ARCHITECTURE.md, "The map"), checked by `npm run check:deps`.
// Layers, bottom to top: base → contract → journal → storage, events, workflow → engine → run →
// worker, server → cli. A module imports its own layer and those below it, never one above. The
// contract is the four type modules every layer meets at; they import only base and each other.
// Type-only imports count: a type that runs up a layer is a dependency a reader must follow too.

const BASE = '^src/(errors|request-context|optional-package)\\.ts$|^src/schema/';
const CONTRACT = '^src/(workflow/types|workflow/run-types|storage/types|events/event-types)\\.ts$';
const ENTRY_POINTS = '^src/(index|testing)\\.ts$';

/** A rule: modules under `from` import nothing under `to` but the contract. */
function below(name, comment, from, to) {
  return { name, comment, severity: 'error', from: { path: from }, to: { path: to, pathNot: CONTRACT } };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import circle in src/, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'base-imports-nothing',
      comment: 'errors, request-context and schema/ import nothing else of src/.',
      severity: 'error',
      from: { path: BASE },
      to: { path: '^src/', pathNot: BASE },
    },
    {
      name: 'contract-imports-contract',
      comment: 'The contract type modules import only base and each other.',
      severity: 'error',
      from: { path: CONTRACT },
      to: { path: '^src/', pathNot: [CONTRACT, BASE] },
    },
    {
      name: 'journal-imports-nothing-above',
      comment: 'journal/ (entries, encoding, projection, entry → event, writer) imports only base and the contract.',
      severity: 'error',
      from: { path: '^src/journal/' },
      to: { path: '^src/', pathNot: ['^src/journal/', CONTRACT, BASE] },
    },
    below(
      'storage-not-above-journal',
      'storage/ knows the journal format, never the engine, runs, events, server or CLI.',
      '^src/storage/',
      '^src/(workflow|events|engine|run|worker|server|cli|inspector)/|' + ENTRY_POINTS,
    ),
    below(
      'events-not-above-journal',
      'events/ turns journal entries into streams; it does not know storage adapters, definitions or the engine.',
      '^src/events/',
      '^src/(storage|workflow|engine|run|worker|server|cli|inspector)/|' + ENTRY_POINTS,
    ),
    below(
      'workflow-is-definitions',
      'workflow/ (definitions, the compiled graph) knows no journal, storage, events or engine.',
      '^src/workflow/',
      '^src/(journal|storage|events|engine|run|worker|server|cli|inspector)/|^src/schedule/schedul|' + ENTRY_POINTS,
    ),
    below(
      'schedule-below-run',
      'schedule/ (declarations, used by workflow/, and the scheduler, used by run/) starts runs through workflows, not the run lifecycle.',
      '^src/schedule/',
      '^src/(journal|events|engine|run|worker|server|cli|inspector)/|^src/storage/(?!types)|' + ENTRY_POINTS,
    ),
    below(
      'engine-not-above-workflow',
      'engine/ executes a graph through a journal writer: no storage adapter, no events, no run lifecycle.',
      '^src/engine/',
      '^src/(storage|events|run|worker|server|cli|inspector)/|' + ENTRY_POINTS,
    ),
    below(
      'run-not-above-engine',
      'run/ (Run, Weft, recovery) is used by the worker, server and CLI, never the other way.',
      '^src/run/',
      '^src/(worker|server|cli|inspector)/|' + ENTRY_POINTS,
    ),
    below(
      'worker-server-not-cli',
      'worker/ and server/ are used by the CLI, never the other way.',
      '^src/(worker|server)/',
      '^src/(cli|inspector)/|' + ENTRY_POINTS,
    ),
    {
      name: 'server-not-worker',
      comment: 'worker/ and server/ stand side by side: neither imports the other.',
      severity: 'error',
      from: { path: '^src/server/' },
      to: { path: '^src/worker/' },
    },
    {
      name: 'worker-not-server',
      comment: 'worker/ and server/ stand side by side: neither imports the other.',
      severity: 'error',
      from: { path: '^src/worker/' },
      to: { path: '^src/server/' },
    },
    {
      name: 'entry-points-not-imported',
      comment: 'index.ts and testing.ts are what users import; inside src/ only the CLI may use them.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: ENTRY_POINTS },
    },
    {
      name: 'optional-drivers-in-their-entry-points',
      comment:
        'pg and graphile-worker are optional peer dependencies: only storage/postgres/ and worker/ import them, so importing weft alone never loads them (the CLI imports those folders when a command needs them).',
      severity: 'error',
      from: { pathNot: '^src/(storage/postgres|worker)/' },
      to: { path: '(^|/)node_modules/(pg|graphile-worker)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$|^src/inspector/assets/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
