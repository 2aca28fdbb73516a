/** View models the webviews render (plain data computed by the host). */
export type DimView = number | string | null;

export interface ModelSummaryView {
  file: string;
  format: string;
  formatVersion?: string;
  producer?: string;
  opsets: string[];
  fileBytes: number;
  nodes: number;
  opCounts: Record<string, number>;
  params: number;
  paramBytes: number;
  tensors: number;
  inputs: { name: string; dtype?: string; shape?: DimView[] }[];
  outputs: { name: string; dtype?: string; shape?: DimView[] }[];
  hierarchy: {
    groups: number;
    depth: number;
    topLevel: { id: string; nodeCount: number; params: number; children: number; repeatKey?: string }[];
    repeatedBlocks: { key: string; count: number }[];
  };
  subgraphs: number;
  metadata: Record<string, string>;
  warnings: string[];
}
