/**
 * A label move is a deploy (or a rollback): every gateway that sees one on a
 * reload records it in the audit trail (`record_type = prompt_deploy`): the
 * prompt, the label, the version before and after, when, and the git commit of
 * the prompts folder when it is a checkout.
 */
import { execFile } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { SpanKind, type Tracer } from '@opentelemetry/api';
import { A } from '../telemetry/attributes.js';
import { movesBetween, type LabelMove, type Labels, type PromptDirectory } from './registry.js';

/** The labels a gateway served last (`<dataDir>/prompt-labels.json`, 0600), so a move made while it was down is recorded at its start. */
export class LabelMemory {
  constructor(private readonly file: string) {}

  /** The moves since the labels remembered; none when nothing is remembered yet (a first start). */
  async movesSince(directory: PromptDirectory): Promise<LabelMove[]> {
    let saved: Labels;
    try {
      saved = JSON.parse(await readFile(this.file, 'utf8')) as Labels;
    } catch {
      return [];
    }
    return movesBetween(saved, directory.checked.labels);
  }

  async remember(directory: PromptDirectory): Promise<void> {
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(directory.checked.labels)}\n`, { mode: 0o600 });
    await rename(temp, this.file);
  }
}

/** The commit checked out in `dir`, or undefined (not a git checkout, or no git). */
export function gitCommit(dir: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['-C', dir, 'rev-parse', 'HEAD'], { timeout: 2_000 }, (error, stdout) => {
      const sha = stdout?.trim();
      resolve(error === null && /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined);
    });
  });
}

export async function recordLabelMoves(tracer: Tracer, dir: string, moves: LabelMove[], directory: PromptDirectory): Promise<void> {
  const commit = await gitCommit(dir);
  for (const move of moves) {
    const span = tracer.startSpan(`prompt deploy ${move.prompt}`, { kind: SpanKind.INTERNAL });
    const to = move.to === undefined ? undefined : directory.version(move.prompt, move.to);
    span.setAttributes({
      [A.auditRecord]: true,
      [A.recordType]: 'prompt_deploy',
      [A.requestId]: randomUUID(),
      [A.operation]: 'prompt.deploy',
      [A.tenant]: '',
      [A.promptId]: move.prompt,
      [A.promptLabel]: move.label,
      ...(move.from !== undefined ? { [A.promptFromVersion]: String(move.from) } : {}),
      ...(move.to !== undefined ? { [A.promptVersion]: String(move.to) } : {}),
      ...(to !== undefined ? { [A.promptSha256]: to.sha256 } : {}),
      ...(commit !== undefined ? { [A.promptCommit]: commit } : {}),
      [A.outcome]: 'ok',
      [A.httpStatus]: 200,
    });
    span.end();
  }
}
