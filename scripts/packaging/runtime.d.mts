// Types of runtime.mjs for the TypeScript tests (test/unit/packaging.test.ts).
import type { Matcher } from './lib.mjs';
export interface Vsce {
  pj: string;
  bin: string;
  version: string;
  match: Matcher;
}
export function loadVsce(root: string): Vsce | undefined;
export const PACKAGE_ASSETS: Record<string, (native: string[]) => string[]>;
export function ortNative(root: string): { pkg: string; version: string | undefined; dirs: string[] };
export function libcOfNativeDir(root: string, dir: string): string | undefined;
export interface RuntimeWalk {
  files: string[];
  packages: Map<string, { name: string; version: string; requiredBy: string }>;
  unresolved: { spec: string; from: string }[];
  dynamic: { file: string; count: number }[];
  nativeLeftOut: string[];
  optionalPresent: string[];
}
export const OPTIONAL_RUNTIMES: string[];
export function walkRuntime(root: string, entries: string[], native: string[], optional?: string[]): RuntimeWalk;
export function productionDirs(root: string): string[];
export function vsceCandidates(root: string, vscePackageJson: string, prodDirs: string[]): Promise<string[]>;
export function listZip(
  file: string,
  read?: (name: string) => boolean,
): { entries: { name: string; size: number; compressed: number }[]; texts: Record<string, string> };
