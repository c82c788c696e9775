import { execFile } from "node:child_process";
import { ConfigError, MeshloopError } from "@meshloop/errors";

/** Who the GitOps commits are by (author and committer alike). */
export interface GitAuthor {
  readonly name: string;
  readonly email: string;
}

/** A `git commit` of the GitOps folder that did not go through; retriable when only another git held the index lock. */
export class GitCommitError extends MeshloopError {}

export interface GitCommit {
  /** False when the paths held no change to commit (nothing was committed). */
  readonly committed: boolean;
  /** The new commit's id when one was made. */
  readonly commit?: string;
}

// The most git prints about one failure that is kept: results and logs stay readable.
const MAX_MESSAGE_CHARS = 500;
// Another git process (a GitOps tool's fetch, a person) holds the index or a ref: trying again shortly works.
const LOCKED = /Unable to create '[^']*\.lock'|\.lock': File exists|cannot lock ref/;

/**
 * The git work tree a GitOps folder lies in, committed to with `git` run directly (execFile, no shell: paths and
 * messages are arguments, never interpreted). Commits only what is under the paths it is given, so a team's own
 * uncommitted work elsewhere in the repository is left alone, and never pushes: publishing the commits (a push, or a
 * GitOps tool reading this clone) is the team's choice. Author and committer come from the environment of each call,
 * so no git configuration is needed or changed.
 */
export class GitopsRepository {
  readonly directory: string;
  readonly #author: GitAuthor;

  constructor(directory: string, author: GitAuthor) {
    this.directory = directory;
    this.#author = author;
  }

  /** Throws a one-line ConfigError when git is missing or the folder is not inside a git work tree. */
  async check(): Promise<void> {
    let answer: string;
    try {
      answer = (await this.#git(["rev-parse", "--is-inside-work-tree"])).trim();
    } catch (error) {
      const reason = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT" ? "git is not installed (not on PATH)" : firstLine(messageOf(error));
      throw new ConfigError(`MESHLOOP_ACTUATOR_GITOPS_COMMIT is on but ${this.directory} is not inside a git work tree: ${reason}`, { context: { directory: this.directory } });
    }
    if (answer !== "true") {
      throw new ConfigError(`MESHLOOP_ACTUATOR_GITOPS_COMMIT is on but ${this.directory} is not inside a git work tree (it is inside a .git folder)`, { context: { directory: this.directory } });
    }
  }

  /**
   * Stages every change under `paths` (relative to the folder; new, changed and removed files) and commits exactly
   * those paths. Asks git, not the caller, whether anything changed, so files written by an earlier try whose commit
   * failed are committed now rather than forgotten.
   */
  async commit(paths: readonly string[], message: string): Promise<GitCommit> {
    try {
      const status = await this.#git(["status", "--porcelain", "--untracked-files=all", "--", ...paths]);
      if (status.trim() === "") return { committed: false };
      await this.#git(["add", "-A", "--", ...paths]);
      await this.#git(["commit", "--quiet", "--no-edit", "-m", message, "--only", "--", ...paths]);
      return { committed: true, commit: (await this.#git(["rev-parse", "HEAD"])).trim() };
    } catch (error) {
      const text = messageOf(error);
      throw new GitCommitError(`git commit in ${this.directory} failed: ${text}`, { retriable: LOCKED.test(text), cause: error, context: { directory: this.directory } });
    }
  }

  #git(args: readonly string[]): Promise<string> {
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: this.#author.name,
      GIT_AUTHOR_EMAIL: this.#author.email,
      GIT_COMMITTER_NAME: this.#author.name,
      GIT_COMMITTER_EMAIL: this.#author.email,
      // Never wait for a person: no credential prompts, no editor; messages in English, which LOCKED reads.
      GIT_TERMINAL_PROMPT: "0",
      GIT_EDITOR: "true",
      LC_ALL: "C",
    };
    return new Promise((resolve, reject) => {
      execFile("git", ["-C", this.directory, ...args], { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        // What git printed says why; the ExecFileException (its code: ENOENT without git) stays the cause.
        else reject(new Error(`${stderr}${stdout}`.trim() || error.message, { cause: error }));
      });
    });
  }
}

/** What git said (its stderr, else its stdout), in one line, cut to a readable length. */
function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.replace(/\s*\n\s*/g, "; ");
  return line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS)}…` : line;
}

function firstLine(text: string): string {
  return text.split("; ")[0] ?? text;
}
