/** The serialized form of a model load error, as it crosses to the webview and into CLI JSON. */
export interface SerializedModelLoadError {
  name: 'ModelLoadError';
  code: string;
  file: string;
  detail: string;
  format?: string;
}
