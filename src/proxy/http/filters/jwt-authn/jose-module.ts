// jose (JWS verification, JWKS handling) is loaded on first need: when a config with a jwt_authn
// filter is compiled, or a verification starts. A sidecar whose config has no jwt_authn filter
// never loads it (about 16 MB of resident memory and 46 modules).
import type * as Jose from "jose";

export type JoseModule = typeof Jose;

let loaded: JoseModule | null = null;
let loading: Promise<JoseModule> | null = null;

/** jose, loading it once. */
export function loadJose(): Promise<JoseModule> {
  return (loading ??= import("jose").then((m) => (loaded = m)));
}

/** jose if it is loaded already, else null (the caller waits on loadJose()). */
export function joseIfLoaded(): JoseModule | null {
  return loaded;
}
