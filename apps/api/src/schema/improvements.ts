/** The improvement tracker (PRODUCT.md §12): improvements, createImprovement, updateImprovement, the Markdown export. */
import { builder } from './builder.js';
import type { Improvement, ImprovementEvidence } from '../model/improvement.js';
import { ImprovementInputError } from '../improvements/service.js';
import { AlertDeliveryRef } from './alerts.js';
import { userInputError } from './errors.js';

const STATUSES = ['open', 'fix_released', 'verified', 'no_effect', 'regressed'] as const;
const KINDS = ['alert', 'error_type', 'intent', 'filter'] as const;

const StatusRef = builder.enumType('ImprovementStatus', {
  description: 'open → fix_released (the fix release has traffic) → verified / no_effect / regressed, judged from the release comparison.',
  values: Object.fromEntries(STATUSES.map((s) => [s.toUpperCase(), { value: s }])) as Record<Uppercase<(typeof STATUSES)[number]>, { value: (typeof STATUSES)[number] }>,
});

const KindRef = builder.enumType('ProblemKind', {
  description: 'ALERT: an alert kind; ERROR_TYPE: an error type; INTENT: an intent; FILTER: an explorer filter as a JSON object.',
  values: Object.fromEntries(KINDS.map((s) => [s.toUpperCase(), { value: s }])) as Record<Uppercase<(typeof KINDS)[number]>, { value: (typeof KINDS)[number] }>,
});

const EvidenceRef = builder.objectRef<ImprovementEvidence>('ImprovementEvidence').implement({
  description: 'The comparison row that judged the status (fix release against baseline).',
  fields: (t) => ({
    dimension: t.exposeString('dimension'),
    key: t.exposeString('key'),
    metric: t.exposeString('metric', { description: '"success" (percentage points, anytime-valid interval) or "p95" (ms).' }),
    diff: t.exposeFloat('diff', { nullable: true }),
    low: t.exposeFloat('low', { nullable: true }),
    high: t.exposeFloat('high', { nullable: true }),
    baselineCount: t.exposeInt('baselineCount'),
    fixCount: t.exposeInt('fixCount'),
    sampleNeeded: t.exposeInt('sampleNeeded'),
    from: t.field({ type: 'DateTime', resolve: (e) => e.judgedFrom }),
    to: t.field({ type: 'DateTime', resolve: (e) => e.judgedTo }),
  }),
});

const ImprovementRef = builder.objectRef<Improvement>('Improvement').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    title: t.exposeString('title'),
    problemKind: t.field({ type: KindRef, resolve: (i) => i.problemKind }),
    problem: t.exposeString('problem'),
    assistant: t.string({ nullable: true, resolve: (i) => i.assistant || null }),
    baseline: t.exposeString('baseline', { description: 'The release that has the problem.' }),
    fix: t.exposeString('fix', { nullable: true, description: 'The release meant to fix it.' }),
    status: t.field({ type: StatusRef, resolve: (i) => i.status }),
    createdAt: t.field({ type: 'DateTime', resolve: (i) => i.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (i) => i.updatedAt }),
    judgedAt: t.field({ type: 'DateTime', nullable: true, resolve: (i) => i.judgedAt }),
    evidence: t.field({ type: EvidenceRef, nullable: true, resolve: (i) => i.evidence }),
    delivery: t.field({ type: AlertDeliveryRef, nullable: true, description: 'The webhook notification of the verdict.', resolve: (i) => i.delivery }),
  }),
});

const CreateInput = builder.inputType('CreateImprovementInput', {
  fields: (t) => ({
    title: t.string({ required: true }),
    problemKind: t.field({ type: KindRef, required: true }),
    problem: t.string({ required: true, description: 'The alert kind, error type, intent, or explorer filter (JSON object).' }),
    assistant: t.string({ required: false }),
    baseline: t.string({ required: true }),
    fix: t.string({ required: false }),
  }),
});

const UpdateInput = builder.inputType('UpdateImprovementInput', {
  fields: (t) => ({
    title: t.string({ required: false }),
    problemKind: t.field({ type: KindRef, required: false }),
    problem: t.string({ required: false }),
    baseline: t.string({ required: false }),
    fix: t.string({ required: false, description: 'The fix release; an empty string removes it.' }),
    status: t.field({ type: StatusRef, required: false, description: 'Set by hand; without it, a changed release or problem is judged again from open.' }),
  }),
});

function asUserError(err: unknown): never {
  if (err instanceof ImprovementInputError) throw userInputError(err.message);
  throw err;
}

builder.queryFields((t) => ({
  improvements: t.field({
    type: [ImprovementRef],
    description: 'The improvement tracker, oldest first.',
    args: { status: t.arg({ type: StatusRef, required: false }) },
    resolve: (_root, args, ctx) => ctx.services.improvements.list(args.status ?? null),
  }),
  improvementsMarkdown: t.string({
    description: 'The improvement tracker as a Markdown table.',
    resolve: (_root, _args, ctx) => ctx.services.improvements.markdown(),
  }),
}));

builder.mutationFields((t) => ({
  createImprovement: t.field({
    type: ImprovementRef,
    description: 'Adds an improvement; it is judged at once and again as traffic arrives.',
    args: { input: t.arg({ type: CreateInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.improvements.create(input).catch(asUserError),
  }),
  updateImprovement: t.field({
    type: ImprovementRef,
    nullable: true,
    description: 'Edits an improvement; null when no improvement has this id.',
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateInput, required: true }) },
    resolve: (_root, { id, input }, ctx) => ctx.services.improvements.update(String(id), input).catch(asUserError),
  }),
}));
