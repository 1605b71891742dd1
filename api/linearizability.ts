// `import … from 'faultline/linearizability'`: the Wing–Gong–Lowe checker with per-key
// partitioning, its register and key-value models, and the history parsers (Jepsen EDN and
// text logs, JSON lines) that `faultline check-history` uses.
export * from '../invariants/linearizability/index.ts';
