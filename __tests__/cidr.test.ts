import { addressAt, cidrContains, cidrProblem, cidrsOverlap, outermostBlocks, subnetHostProblem } from "../lib/cidr";

describe("cidrProblem", () => {
  it("accepts a block with no host bits", () => {
    expect(cidrProblem("10.0.0.0/24")).toBeUndefined();
  });
  it("names the corrected block when host bits are set", () => {
    expect(cidrProblem("192.168.0.1/24")).toMatch(/host bits set; write 192\.168\.0\.0\/24/);
  });
  it.each(["10.0.0.0", "10.0.0.0/33", "300.0.0.0/8", "10.0.0/24", "::/0", " 10.0.0.0/24"])("refuses %p", (text) => {
    expect(cidrProblem(text)).toMatch(/not an IPv4 CIDR block/);
  });
});

describe("cidrContains and cidrsOverlap", () => {
  it("sees containment in one direction only", () => {
    expect(cidrContains("10.0.0.0/16", "10.0.3.0/24")).toBe(true);
    expect(cidrContains("10.0.3.0/24", "10.0.0.0/16")).toBe(false);
  });
  it("finds overlap either way and none between neighbours", () => {
    expect(cidrsOverlap("10.0.0.0/23", "10.0.1.0/24")).toBe(true);
    expect(cidrsOverlap("10.0.1.0/24", "10.0.0.0/23")).toBe(true);
    expect(cidrsOverlap("10.0.0.0/24", "10.0.1.0/24")).toBe(false);
  });
});

describe("addressAt", () => {
  it("counts from the network address across octets", () => {
    expect(addressAt("10.0.0.0/24", 10)).toBe("10.0.0.10");
    expect(addressAt("10.0.0.128/25", 127)).toBe("10.0.0.255");
    expect(addressAt("192.168.0.0/16", 256 + 5)).toBe("192.168.1.5");
  });
  it("refuses offsets outside the block", () => {
    expect(() => addressAt("10.0.0.0/28", 16)).toThrow(/outside 10\.0\.0\.0\/28/);
  });
});

describe("subnetHostProblem", () => {
  it("refuses the five addresses AWS reserves", () => {
    for (const ip of ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.127"]) {
      expect(subnetHostProblem(ip, "10.0.0.0/25")).toMatch(/reserves/);
    }
    expect(subnetHostProblem("10.0.0.4", "10.0.0.0/25")).toBeUndefined();
  });
  it("refuses addresses outside the subnet", () => {
    expect(subnetHostProblem("10.0.0.200", "10.0.0.0/25")).toMatch(/outside the subnet/);
  });
});

describe("outermostBlocks", () => {
  it("drops repeats and blocks inside others, keeping order", () => {
    expect(outermostBlocks(["172.16.0.10/32", "172.16.0.0/24", "172.16.0.0/24", "172.17.0.0/24"])).toEqual([
      "172.16.0.0/24",
      "172.17.0.0/24",
    ]);
  });
});

describe("the edges of the CIDR helpers", () => {
  it("refuses hexadecimal octets and a three-digit prefix that the parser alone would take", () => {
    expect(cidrProblem("0x0a.0.0.0/24")).toMatch(/not an IPv4 CIDR block/);
    expect(cidrProblem("10.0.0.0/024")).toMatch(/not an IPv4 CIDR block/);
  });

  it("does not let a smaller block contain a larger one that starts at the same address", () => {
    expect(cidrContains("10.0.0.0/25", "10.0.0.0/24")).toBe(false);
    expect(cidrContains("10.0.0.0/24", "10.0.0.0/25")).toBe(true);
  });

  it("counts an offset across octets, and refuses one outside the block, negative or fractional", () => {
    expect(addressAt("10.0.0.0/22", 300)).toBe("10.0.1.44");
    expect(addressAt("10.0.0.0/16", 65534)).toBe("10.0.255.254");
    expect(() => addressAt("10.0.0.0/24", 256)).toThrow("offset 256 is outside 10.0.0.0/24 (256 addresses)");
    expect(() => addressAt("10.0.0.0/24", -1)).toThrow(RangeError);
    expect(() => addressAt("10.0.0.0/24", 1.5)).toThrow(RangeError);
    expect(addressAt("10.0.0.0/24", 255)).toBe("10.0.0.255");
  });

  it("names the reserved addresses of the subnet", () => {
    expect(subnetHostProblem("10.0.0.255", "10.0.0.0/24")).toBe(
      "is one of the addresses AWS reserves in 10.0.0.0/24 (10.0.0.0, 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.255); pick another host address",
    );
  });
});

describe("addressAt from a block that does not start at x.y.0.0", () => {
  it("keeps the block's third octet", () => {
    expect(addressAt("10.0.4.0/22", 1)).toBe("10.0.4.1");
    expect(addressAt("10.0.4.0/22", 260)).toBe("10.0.5.4");
  });
});
