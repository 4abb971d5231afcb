import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { localIPv4, scanNetns } from "./pod-netns.ts";

// /proc/net/fib_trie of a pod's namespace (eth0 10.244.0.7/24 and loopback), as Linux prints it.
const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 10.244.0.0/24 2 0 2
        +-- 10.244.0.0/29 2 0 2
           |-- 10.244.0.0
              /24 link UNICAST
           |-- 10.244.0.7
              /32 host LOCAL
        |-- 10.244.0.255
           /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.244.0.7
        /32 host LOCAL
`;

describe("localIPv4", () => {
  it("the /32 host LOCAL leaves: the namespace's own addresses, not routes or broadcasts", () => {
    assert.deepEqual(localIPv4(FIB_TRIE).sort(), ["10.244.0.7", "127.0.0.1"]);
  });
  it("an empty dump has none", () => {
    assert.deepEqual(localIPv4(""), []);
  });
});

describe("scanNetns", () => {
  it("groups processes by namespace inode, skips its own (the host's) and vanished ones, maps each address", async () => {
    // A /proc-shaped tree: ns links are symlinks whose target is the kernel's `net:[inode]` text.
    const proc = mkdtempSync(join(tmpdir(), "amime-proc-"));
    try {
      const pid = (n: string, inode: number, trie?: string): void => {
        mkdirSync(join(proc, n, "ns"), { recursive: true });
        symlinkSync(`net:[${inode}]`, join(proc, n, "ns", "net"));
        if (trie !== undefined) {
          mkdirSync(join(proc, n, "net"));
          writeFileSync(join(proc, n, "net", "fib_trie"), trie);
        }
      };
      pid("self", 1);
      pid("1", 1, "     |-- 192.0.2.2\n        /32 host LOCAL\n");
      pid("40", 7, FIB_TRIE);
      pid("41", 7);
      pid("50", 9); // exited between readlink and the read of its fib_trie
      mkdirSync(join(proc, "sys"));
      const found = await scanNetns(proc);
      assert.deepEqual(found.get("10.244.0.7"), { pid: 40, inode: 7 });
      assert.equal(found.has("192.0.2.2"), false, "the host's own namespace is never a pod's");
      assert.deepEqual([...found.keys()].sort(), ["10.244.0.7", "127.0.0.1"]);
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });
});
