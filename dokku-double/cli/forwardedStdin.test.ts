import { describe, expect, it } from "vitest";
import { StdinNeeded } from "./context.ts";
import { ForwardedStdin } from "./forwardedStdin.ts";

function needs(read: () => unknown): StdinNeeded["mode"] | undefined {
  try {
    read();
    return undefined;
  } catch (error) {
    if (error instanceof StdinNeeded) return error.mode;
    throw error;
  }
}

describe("forwarded stdin", () => {
  it("asks for more until a line or EOF is there, and replays the same bytes after a rewind", () => {
    const stdin = new ForwardedStdin(false);
    expect(needs(() => stdin.readLine())).toBe("line");
    stdin.append(Buffer.from("my-app\nrest"));
    expect(stdin.readLine()).toEqual({ line: "my-app", terminated: true });
    expect(needs(() => stdin.readAll())).toBe("all");
    stdin.end();
    stdin.rewind();
    expect(stdin.readLine()).toEqual({ line: "my-app", terminated: true });
    expect(stdin.readAll().toString()).toBe("rest");
    expect(stdin.readLine()).toEqual({ line: "", terminated: false });
  });

  it("gives an unterminated last line at EOF and reports the client's tty", () => {
    const stdin = new ForwardedStdin(true);
    stdin.append(Buffer.from("partial"));
    expect(stdin.hasLine()).toBe(false);
    stdin.end();
    expect(stdin.hasLine()).toBe(true);
    expect(stdin.readLine()).toEqual({ line: "partial", terminated: false });
    expect(stdin.isTty()).toBe(true);
  });
});
