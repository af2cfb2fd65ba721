// The few web-standard globals core uses. They exist in every runtime da3js targets (browsers,
// Node ≥ 20, workers), but are not in the ES2022 lib; declaring them here keeps core free of the
// DOM and Node type libraries.
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare function btoa(data: string): string;
declare const crypto: { getRandomValues<T extends Uint8Array>(array: T): T };
declare const URL: { canParse(url: string, base?: string): boolean };
