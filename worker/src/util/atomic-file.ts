/**
 * Durable file replacement for the worker's small state files (stored config, generated token,
 * worker uid): a reader sees the old file or the new one, never a torn write, even after a power cut.
 */
import fs from 'node:fs';
import path from 'node:path';

/** temp + fsync + rename + fsync(dir). The temp name is unique per process so writers never clash. */
export function writeFileAtomic(file: string, data: string, mode: number): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}
