/**
 * fast-check, the tests' property-testing library. Test-only packages are
 * named here, not in deno.json's imports: `deno task` installs every package
 * of that map, so a user's first `deno task demo` would download them too.
 * Moving to another source is this one line.
 *
 * @module
 */

import fc from "npm:fast-check@4.10.2";

export default fc;
