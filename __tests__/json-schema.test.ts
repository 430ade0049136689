import * as fs from "fs";
import * as path from "path";
import { environmentJsonSchema } from "../tools/json-schema";
import { SETTINGS_END, SETTINGS_PAGE, SETTINGS_START, settingsTable, withSettingsTable } from "../tools/settings-table";
import { CONFIG_DIR, EXAMPLES_DIR } from "./helpers/stack";

describe("environments/schema.json", () => {
  const committed = fs.readFileSync(path.join(__dirname, "..", "environments", "schema.json"), "utf8");

  it("is what the zod schema generates (run `npm run docs` after changing lib/config/schema.ts)", () => {
    expect(committed).toBe(environmentJsonSchema());
  });

  it("refuses unknown keys and requires what has no default, so editors flag typos", () => {
    const schema = JSON.parse(committed);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(["name", "region", "state", "proxyVpc", "appVpcs", "serviceSide", "services"]));
    expect(schema.required).not.toContain("proxyBypass");
    expect(schema.properties.proxyVpc.additionalProperties).toBe(false);
  });

  it("is the schema every demo and example points at, by a path that still holds once the file is copied into environments/", () => {
    for (const file of fs.readdirSync(CONFIG_DIR).filter((f) => f.endsWith(".json"))) {
      expect(JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, file), "utf8")).$schema).toBe("../environments/schema.json");
    }
    for (const file of fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith(".json"))) {
      expect(JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), "utf8")).$schema).toBe("../environments/schema.json");
    }
  });
});

describe("the settings table of docs/settings.md", () => {
  const readme = fs.readFileSync(path.join(__dirname, "..", SETTINGS_PAGE), "utf8");

  it("is what the schema generates (run `npm run docs` after changing lib/config/schema.ts)", () => {
    expect(readme).toBe(withSettingsTable(readme));
  });

  it("has a row for every setting, with its default", () => {
    const table = settingsTable();
    expect(table).toContain("| `proxy.port` | integer | `3128` |");
    expect(table).toContain("| `appVpcs[].existing.routeTableIds` |");
    expect(table).toContain('| `serviceSide.type = "directConnectGateway"` |');
  });

  it("notices a stale copy", () => {
    const stale = readme.replace("| `proxy.port` | integer | `3128` |", "| `proxy.port` | integer | `8080` |");
    expect(withSettingsTable(stale)).not.toBe(stale);
    expect(() => withSettingsTable(readme.replace(SETTINGS_START, "").replace(SETTINGS_END, ""))).toThrow(
      /docs\/settings.md has no settings markers/,
    );
  });
});
