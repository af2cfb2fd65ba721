/** The part of gltf-validator's API the tests use (the package ships no types). */
declare module 'gltf-validator' {
  interface ValidationReport {
    issues: { numErrors: number; numWarnings: number; messages: { code: string; message: string; pointer?: string }[] };
  }
  const validator: { validateBytes(data: Uint8Array, options?: Record<string, unknown>): Promise<ValidationReport> };
  export default validator;
}
