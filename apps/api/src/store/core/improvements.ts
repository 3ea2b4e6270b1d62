/**
 * The improvement tracker's table, shared by both stores. Writes go through each store's
 * `executor` (the write connection), always with RETURNING so one statement shape serves both.
 */
import type { Improvement, ImprovementStatus } from '../../model/improvement.js';
import { parseJson, type Row, type SqlReader } from './sql.js';

const COLUMNS = ['id', 'title', 'problem_kind', 'problem_key', 'assistant', 'baseline', 'fix', 'status', 'verdict', 'created_at', 'updated_at', 'judged_at', 'detail', 'delivery'] as const;

function values(i: Improvement): unknown[] {
  return [
    i.id, i.title, i.problemKind, i.problem, i.assistant, i.baseline, i.fix, i.status, null,
    i.createdAt, i.updatedAt, i.judgedAt, JSON.stringify(i.evidence), i.delivery ? JSON.stringify(i.delivery) : null,
  ];
}

export function rowToImprovement(r: Row): Improvement {
  return {
    id: r.id as string,
    title: r.title as string,
    problemKind: r.problem_kind as Improvement['problemKind'],
    problem: r.problem_key as string,
    assistant: r.assistant as string,
    baseline: r.baseline as string,
    fix: (r.fix as string | null) ?? null,
    status: r.status as ImprovementStatus,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    judgedAt: r.judged_at === null || r.judged_at === undefined ? null : Number(r.judged_at),
    evidence: parseJson(r.detail, null),
    delivery: parseJson(r.delivery, null),
  };
}

export async function insertImprovement(db: SqlReader, i: Improvement): Promise<Improvement> {
  const d = db.dialect;
  const rows = await db.all(
    `INSERT INTO ${d.table('improvements')} (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((_, n) => d.placeholder(n + 1)).join(', ')}) RETURNING *`,
    values(i),
  );
  return rowToImprovement(rows[0]!);
}

/**
 * Replaces a stored improvement; when `expected` is given only if its status still is that
 * (a compare-and-set, so of several replicas judging at once exactly one records the verdict).
 * Null when nothing was replaced.
 */
export async function replaceImprovement(db: SqlReader, next: Improvement, expected: ImprovementStatus | null): Promise<Improvement | null> {
  const d = db.dialect;
  const sets = COLUMNS.slice(1).map((c, n) => `${c} = ${d.placeholder(n + 1)}`).join(', ');
  const args = values(next).slice(1);
  let where = `id = ${d.placeholder(args.length + 1)}`;
  args.push(next.id);
  if (expected !== null) {
    args.push(expected);
    where += ` AND status = ${d.placeholder(args.length)}`;
  }
  const rows = await db.all(`UPDATE ${d.table('improvements')} SET ${sets} WHERE ${where} RETURNING *`, args);
  return rows[0] ? rowToImprovement(rows[0]) : null;
}

export async function getImprovement(db: SqlReader, id: string): Promise<Improvement | null> {
  const d = db.dialect;
  const rows = await db.all(`SELECT * FROM ${d.table('improvements')} WHERE id = ${d.placeholder(1)}`, [id]);
  return rows[0] ? rowToImprovement(rows[0]) : null;
}

/** Oldest first (the tracking table's order); of one status when given. */
export async function listImprovements(db: SqlReader, status: ImprovementStatus | null): Promise<Improvement[]> {
  const d = db.dialect;
  const rows = status
    ? await db.all(`SELECT * FROM ${d.table('improvements')} WHERE status = ${d.placeholder(1)} ORDER BY created_at, id${d.collate}`, [status])
    : await db.all(`SELECT * FROM ${d.table('improvements')} ORDER BY created_at, id${d.collate}`, []);
  return rows.map(rowToImprovement);
}
