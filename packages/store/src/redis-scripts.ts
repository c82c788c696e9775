import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * The Lua scripts behind the operations that must read and write atomically. Keys arrive already prefixed.
 * Numbers travel as the decimal strings JavaScript formatted and come back as strings (a Lua number in a reply
 * would be truncated to an integer), so no precision is lost either way; Lua's tonumber parses them to the
 * same doubles JavaScript has.
 */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function lua(name: string, source: string): LuaScript {
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

// A stored value the scripts cannot compare is an error, not silently "smaller": it means a key collision.
const numberOf = `
local function number_of(value, what)
  local n = tonumber(value)
  if n == nil or n ~= n or n == math.huge or n == -math.huge then
    return nil, redis.error_reply('NOTNUMBER ' .. what .. ' is not a number')
  end
  return n
end
`;

/** KEYS[1] the mark; ARGV[1] the candidate. Returns the maximum, as stored. KEEPTTL: only the value changes. */
export const setMaxScript = lua("setMax", `${numberOf}
local current = redis.call('GET', KEYS[1])
if current then
  local n, err = number_of(current, 'value')
  if err then return err end
  if n >= tonumber(ARGV[1]) then return current end
end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
return ARGV[1]
`);

/**
 * KEYS[1] the key; ARGV[1] '1' when a value is expected, '0' when absence is; ARGV[2] the expected value;
 * ARGV[3] the next value; ARGV[4] the TTL in ms, or '' for none. Returns 1 when it wrote.
 */
export const compareAndSetScript = lua("compareAndSet", `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[4] == '' then
  redis.call('SET', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
end
return 1
`);

/**
 * KEYS[1] the fence, KEYS[2] the key; ARGV[1] the writer's epoch, ARGV[2] the value, ARGV[3] the TTL in ms or ''.
 * Returns {1} when it wrote, {0, stored epoch} when a newer owner holds the fence. In Redis Cluster both keys
 * would need one hash tag; the store talks to a single server.
 */
export const fencedSetScript = lua("fencedSet", `${numberOf}
local fence = redis.call('GET', KEYS[1])
local epoch = tonumber(ARGV[1])
if fence then
  local current, err = number_of(fence, 'fence epoch')
  if err then return err end
  if current > epoch then return {0, fence} end
  if current < epoch then redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL') end
else
  redis.call('SET', KEYS[1], ARGV[1])
end
if ARGV[3] == '' then
  redis.call('SET', KEYS[2], ARGV[2])
else
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return {1}
`);

/**
 * Runs a script by its SHA and sends the source only when the server does not have it cached (first use, or
 * after a restart or SCRIPT FLUSH), which is what EVALSHA is for.
 */
export async function runScript(client: Redis, script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return await client.eval(script.source, keys.length, ...keys, ...args);
  }
}
