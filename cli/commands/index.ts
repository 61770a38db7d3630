// The command table: every `crabbox` command, in the order `crabbox --help` lists them. A new
// command is one file in this folder and one line here.
import type { CommandDef } from "../core/command";
import acquire from "./acquire";
import budgetSet from "./admin/budget-set";
import sweep from "./admin/sweep";
import sweeps from "./admin/sweeps";
import tokenCreate from "./admin/token-create";
import tokenList from "./admin/token-list";
import tokenRevoke from "./admin/token-revoke";
import adminUsage from "./admin/usage";
import adminConfig from "./admin/config";
import catalog from "./catalog";
import cp from "./cp";
import doctor from "./doctor";
import events from "./events";
import list from "./list";
import login from "./login";
import logout from "./logout";
import providers from "./providers";
import release from "./release";
import resume from "./resume";
import run from "./run";
import ssh from "./ssh";
import sshConfig from "./ssh-config";
import status from "./status";
import touch from "./touch";
import usage from "./usage";
import whoami from "./whoami";

export const COMMANDS: CommandDef<object>[] = [
  acquire,
  run,
  ssh,
  cp,
  status,
  list,
  touch,
  release,
  resume,
  events,
  usage,
  sshConfig,
  providers,
  catalog,
  doctor,
  login,
  whoami,
  logout,
  tokenCreate,
  tokenList,
  tokenRevoke,
  adminUsage,
  budgetSet,
  adminConfig,
  sweep,
  sweeps,
] as CommandDef<object>[];
