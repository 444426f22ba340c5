/**
 * Deno permissions the tool needs, checked before use: a missing one is
 * named with the flag that grants it, instead of surfacing later as a
 * network failure or a silently ignored setting.
 *
 * @module
 */

/**
 * Asks for `descriptor` (Deno prompts on a terminal when it may); throws
 * `Deno.errors.NotCapable` naming `flags` unless it is granted.
 *
 * @param action What the permission is for, e.g. `connect to host:port`.
 * @param flags The flag that grants it, e.g. `--allow-net`.
 */
export function requirePermission(
  descriptor: Deno.PermissionDescriptor,
  action: string,
  flags: string,
): void {
  let { state } = Deno.permissions.querySync(descriptor);
  if (state === "prompt") {
    state = Deno.permissions.requestSync(descriptor).state;
  }
  if (state !== "granted") {
    throw new Deno.errors.NotCapable(
      `no permission to ${action}: run deno with ${flags}`,
    );
  }
}
