import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * Bearer-token check. Tokens are compared as SHA-256 digests with timingSafeEqual, so neither the comparison time
 * nor an early length mismatch tells an attacker how much of a guess was right. Tokens are never logged.
 */
export class TokenCheck {
  readonly #digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.#digests = tokens.filter((token) => token.length > 0).map(digest);
  }

  static fromConfig(token: string | undefined, tokenFile: string | undefined): TokenCheck {
    const tokens: string[] = [];
    if (token !== undefined) tokens.push(token);
    if (tokenFile !== undefined) {
      for (const line of readFileSync(tokenFile, "utf8").split(/\r?\n/)) if (line.trim() !== "") tokens.push(line.trim());
    }
    return new TokenCheck(tokens);
  }

  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  /** `authorization` is the header's value (HTTP) or the metadata entry (gRPC). */
  allows(authorization: string | undefined): boolean {
    if (!this.enabled) return true;
    if (authorization === undefined) return false;
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (!match) return false;
    const offered = digest(match[1]!);
    let ok = false;
    for (const expected of this.#digests) ok = timingSafeEqual(offered, expected) || ok;
    return ok;
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
