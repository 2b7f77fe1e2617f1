import type { TaskInfo } from "./schemas";

/** State of a collected group, shared by both backends (server adds `taskGroupId`). */
export interface GroupState {
  taskGroupId?: number;
  /** `pixi` only for server groups adopted by a `pixi` input (provider/fractal/origins.ts). */
  origin: "pypi" | "wheel-file" | "pixi" | "other";
  pkgName: string;
  /** The pixi version of a `pixi` group. */
  pixiVersion?: string;
  version?: string;
  pythonVersion?: string;
  path?: string;
  venvPath?: string;
  archivePath?: string;
  pipExtras?: string;
  pinnedPackageVersionsPre?: Record<string, string>;
  pinnedPackageVersionsPost?: Record<string, string>;
  active: boolean;
  tasks: TaskInfo[];
  activityLog: string;
  serverUserGroupId?: number | null;
}
