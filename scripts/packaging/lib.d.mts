// Types of lib.mjs for the TypeScript tests (test/unit/packaging.test.ts).
export interface TargetInfo {
  os: 'linux' | 'darwin' | 'win32';
  arch: string;
  libc?: 'glibc' | 'musl';
}
export const TARGETS: Readonly<Record<string, TargetInfo>>;
export const USAGE: string;
export function hostTarget(platform: string, arch: string, isMusl?: boolean): string;
export interface Options {
  targets: string[];
  all: boolean;
  out: string;
  build: boolean;
  allowDev: boolean;
  help: boolean;
}
export function parseArgs(argv: string[], host: string): Options;
export function vsixName(name: string, target: string, version: string): string;
export function detectLibc(bytes: Uint8Array): 'glibc' | 'musl' | 'unknown' | 'not-elf';
export type NativeRuntime = { ok: true; dirs: string[] } | { ok: false; expected: string; reason: string };
export function nativeRuntimeFor(target: string, available: string[], libcOf?: (dir: string) => string | undefined): NativeRuntime;
export const NATIVE_EXCLUDE: RegExp;
export function scanSpecifiers(source: string): { specifiers: string[]; dynamic: number };
export function packageDirOf(rel: string): string | undefined;
export interface IgnoreRules {
  ignore: string[];
  negate: string[];
}
export type Matcher = (file: string, pattern: string) => boolean;
export function parseIgnoreRules(text: string): IgnoreRules;
export function isIgnored(rules: IgnoreRules, file: string, match: Matcher): boolean;
export function denyPatterns(keep: string[], candidates: string[]): { pattern: string; covers: number }[];
export function escapeGlob(p: string): string;
export function generateIgnoreFile(opts: {
  target: string;
  baseText: string;
  keep: string[];
  candidates: string[];
  match: Matcher;
  note?: string[];
}): string;
export const REQUIRED_ENTRIES: string[];
export const FORBIDDEN_ENTRIES: [RegExp, string][];
export interface EntryCounts {
  total: number;
  nodeModules: number;
  native: number;
  dist: number;
  packages: number;
}
export function verifyEntries(
  entries: string[],
  target: string,
  opts?: { devDependencies?: string[]; manifest?: string },
): { errors: string[]; counts: EntryCounts };
export function isDevelopmentBundle(text: string): boolean;
export function formatBytes(n: number): string;
export function vsixEntryOf(file: string): string;
export function compareWithKeep(entries: string[], keep: string[]): { missing: string[]; extra: string[] };
export function readmeLocalLinks(markdown: string): string[];
export function manifestFileRefs(pkg: { main?: string; icon?: string; contributes?: unknown }): string[];
