/** The layout worker's bundled source, inlined by esbuild.mjs (see layoutClient.ts). */
declare module 'inline-worker:layout' {
  const source: string;
  export default source;
}
