/**
 * What a bench run left running, for the tests that run the harness: processes of the kinds it
 * starts that were not there before and are orphans (their parent gone, so adopted by init), or
 * children of such. Other runs on this machine (another test, another bench) still have their
 * parents, so they are not counted.
 */
import { execFileSync } from "node:child_process";

// What a leaked contestant, upstream or MCP server looks like in `ps`.
const OURS = /static-upstream\.ts|tls-upstream-server\.ts|node-proxy-server|@portkey-ai\/gateway|nginx: master|openai-gateway\.js|openai-gateway-mcp\/dist\/cli\.js|server-everything|redis-server|supergateway|mcp-proxy/;

interface Proc {
  pid: number;
  ppid: number;
  args: string;
}

function processes(): Proc[] {
  const ps = execFileSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" });
  return ps.split("\n").flatMap((l) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l);
    return m ? [{ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }] : [];
  });
}

/** Every process now, to compare with after the run. */
export const processesNow = (): Set<number> => new Set(processes().map((p) => p.pid));

/** Ours that were not there `before` and have no live parent outside them, as "pid args". */
export function leftBehind(before: Set<number>): string[] {
  const fresh = processes().filter((p) => OURS.test(p.args) && !before.has(p.pid));
  const ids = new Set(fresh.map((p) => p.pid));
  return fresh.filter((p) => p.ppid === 1 || ids.has(p.ppid)).map((p) => `${p.pid} ${p.args}`);
}

/** leftBehind, after giving a process told to stop as the run ended a moment (up to 3 s) to be gone. */
export async function leftBehindAfterAMoment(before: Set<number>): Promise<string[]> {
  let left = leftBehind(before);
  for (let i = 0; i < 30 && left.length > 0; i++, left = leftBehind(before)) await new Promise((r) => setTimeout(r, 100));
  return left;
}
