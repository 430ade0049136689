import * as path from "path";
import { CONFIG_DIR } from "./stack";

/** The raw JSON of the PrivateLink demo (two app VPCs on 192.168.0.0/24), a fresh copy each call, to edit in tests. */
export function privateLinkRaw(): any {
  return JSON.parse(JSON.stringify(require(path.join(CONFIG_DIR, "privatelink.json"))));
}
