import { createHash } from "node:crypto";

/** Hex SHA-256 of a string (UTF-8) or bytes: the checksums recorded in the generated manifests. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
