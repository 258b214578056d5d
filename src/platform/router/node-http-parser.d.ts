/** Node's own HTTP/1 parser (llhttp), as its http module uses it: the router reads slots' answers with it. */
declare module '_http_common' {
  export class HTTPParser {
    static readonly REQUEST: number;
    static readonly RESPONSE: number;
    static readonly kOnHeaders: number;
    static readonly kOnHeadersComplete: number;
    static readonly kOnBody: number;
    static readonly kOnMessageComplete: number;
    initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
    /** Bytes parsed, or the parse error. */
    execute(data: Buffer): number | Error;
    /** The connection ended: completes a body delimited by the close. */
    finish(): number | Error | undefined;
    close(): void;
    [callback: number]: unknown;
  }
}
