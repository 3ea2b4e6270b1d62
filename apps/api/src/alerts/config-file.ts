/**
 * `alert_config.json` on disk: read and validated at start (created with the seed's defaults
 * when missing), written back atomically (temp file, fsync, rename) on every update.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DEFAULT_ALERT_CONFIG } from '@ai-monitor/schema';
import { ALERT_CONFIG_FIELDS, AlertConfigError, fileLabel, parseAlertConfig, type FieldLabel, type AlertSettings } from './config-schema.js';

export class AlertConfigFileStore {
  private settings: AlertSettings;
  /** Serialises writes so two updates never interleave their read-merge-write. */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    settings: AlertSettings,
  ) {
    this.settings = settings;
  }

  /** Reads and validates the file, creating it with the defaults when it does not exist. */
  static load(file: string): AlertConfigFileStore {
    if (!existsSync(file)) {
      const settings = parseAlertConfig(DEFAULT_ALERT_CONFIG, fileLabel(file));
      writeAtomically(file, serialise(settings));
      return new AlertConfigFileStore(file, settings);
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new AlertConfigError(`${file}: cannot read the alert settings: ${(err as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new AlertConfigError(`${file}: not valid JSON (${(err as Error).message}); fix the file or delete it to recreate the defaults`);
    }
    return new AlertConfigFileStore(file, parseAlertConfig(raw, fileLabel(file)));
  }

  get current(): AlertSettings {
    return this.settings;
  }

  /**
   * Merges `patch` (snake_case fields) into the current settings, validates the result with
   * the file's validator, writes it atomically and only then applies it.
   */
  update(patch: Partial<Record<keyof AlertSettings, unknown>>, label: FieldLabel): Promise<AlertSettings> {
    const next = this.writing.then(() => {
      const merged = parseAlertConfig({ ...this.settings, ...patch }, label);
      writeAtomically(this.file, serialise(merged));
      this.settings = merged;
      return merged;
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Writes settings validated elsewhere (another replica's change) and applies them. */
  replace(settings: AlertSettings): Promise<AlertSettings> {
    const next = this.writing.then(() => {
      writeAtomically(this.file, serialise(settings));
      this.settings = settings;
      return settings;
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}

/** The seed's fields first, in the seed's order, then the optional ones. */
function serialise(settings: AlertSettings): string {
  const ordered: Record<string, unknown> = {};
  for (const key of ALERT_CONFIG_FIELDS) ordered[key] = settings[key];
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** Readers see the old file or the new one, never a half-written one. */
function writeAtomically(file: string, text: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  // The file may hold SMTP credentials: keep an existing file's mode, else owner-only.
  const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o600;
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, text, { mode });
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new AlertConfigError(`${file}: cannot write the alert settings: ${(err as Error).message}`);
  }
  syncDirectory(dir);
}

/** Makes the rename durable; some platforms cannot open a directory, which is harmless there. */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported on this platform (e.g. Windows); the rename itself is still atomic.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
