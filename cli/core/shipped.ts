// What the last `crabbox run` shipped to a lease's directory, kept beside the lease's keys
// (<config>/leases/<id>/shipped.json), so the next run on the same lease removes the files that
// were deleted here since. Only files we shipped and that are gone here are removed: whatever the
// remote command made in that directory (build output, caches) stays, which a plain
// `rsync --delete` would wipe.
import { existsSync, lstatSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { writePrivateFile } from "./config";

interface Shipped {
  remoteDir: string;
  files: string[];
}

/** Files shipped last time to `remoteDir` that no longer exist under `dir` (empty on a first run). */
export function deletedSince(manifest: string, remoteDir: string, dir: string, files: readonly string[]): string[] {
  const last = read(manifest);
  if (!last || last.remoteDir !== remoteDir) return [];
  const now = new Set(files);
  return last.files.filter((file) => !now.has(file) && !exists(join(dir, file)));
}

export function recordShipped(manifest: string, remoteDir: string, files: readonly string[]): void {
  writePrivateFile(manifest, `${JSON.stringify({ remoteDir, files: [...files] } satisfies Shipped)}\n`);
}

/** Every file and symlink under `dir`, relative, as `--sync-all` sends them (rsync -a does not follow links). */
export function everyFile(dir: string, prefix = ""): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...everyFile(dir, path));
    else found.push(path);
  }
  return found;
}

function read(manifest: string): Shipped | undefined {
  if (!existsSync(manifest)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(manifest, "utf8")) as Partial<Shipped>;
    if (typeof parsed.remoteDir !== "string" || !Array.isArray(parsed.files)) return undefined;
    return { remoteDir: parsed.remoteDir, files: parsed.files.filter((file): file is string => typeof file === "string" && isRelative(file)) };
  } catch {
    return undefined; // a damaged manifest only means nothing is removed this time
  }
}

/** Never a path that could leave the remote directory. */
function isRelative(file: string): boolean {
  return file !== "" && !file.startsWith("/") && !file.split("/").includes("..");
}

/** lstat: a dangling symlink we shipped still exists here. */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
