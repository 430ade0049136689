/**
 * AWS on-demand list prices in USD, per region, for every item the cost estimate (tools/costs.ts)
 * counts. One row per region; a region without a row has no estimate in dollars, and an instance
 * type missing from its region's row is reported as not known: the estimate never borrows another
 * region's figures or guesses one.
 *
 * Where the figures come from: AWS's public price lists (the Price List API's offer files, and the
 * pricing pages that show them), named per item in PRICE_SOURCES. They were written down by hand on
 * PRICES_TAKEN from AWS's published list prices as the author knew them, on a machine with no route
 * to AWS, so nothing was fetched that day. Where a stored copy of a page or a generated price table
 * was at hand they were checked against it: EC2 us-east-1 Linux against the Karpenter project's table
 * generated from the EC2 price list (2026-07); EC2 t3 and the NAT gateway in ap-southeast-1 against a
 * published bill; Tokyo's CloudWatch Logs and load balancer, and us-east-1's NAT gateway, endpoint and
 * logs prices against pages quoting them; Tokyo's interface endpoint ($0.014 per endpoint and zone-hour, usage type
 * APN1-VpcEndpoint-Hours) against published tables that quote the Price List API's ap-northeast-1 AmazonVPC offer
 * (retrieved 2026-09), and the endpoints' data processing ($0.01/GB for a region's first PB a month, tiers alike in
 * every region) against AWS's PrivateLink pricing page (2026-12). An endpoint service itself has no charge: its
 * load balancer is billed, and the endpoint's owner pays its hours and data. Graviton t4g outside us-east-1 is AWS's t3 price less 20 %
 * (its launch pricing, rounded as AWS lists it), unchecked against a stored copy. A CloudWatch dashboard ($3 a
 * month) and a KMS key ($1 a month), listed alike in these regions, were checked against pages quoting AWS's
 * pricing (2026-12). Regions whose every figure was not certain are left out rather than filled in: eu-central-1,
 * eu-west-2, ap-south-1, ap-northeast-2, ca-central-1 and sa-east-1 are among the large regions still missing. To add one,
 * copy a row and replace every figure from the offer files below; the tests check that a row
 * covers every item and that Windows costs Linux plus the license fee AWS charges everywhere.
 */

/** The day the figures below were written down. */
export const PRICES_TAKEN = "2026-12-04";

/** Hours in the month the estimate uses (AWS's own calculators use 730). */
export const HOURS_PER_MONTH = 730;

/** Metrics that EC2 detailed monitoring sends per instance, each billed as a custom metric. */
export const DETAILED_MONITORING_METRICS = 7;

/** One region's prices, for everything the estimate counts. */
export interface RegionPrices {
  /** The region's name in the price list (its `location` attribute). */
  readonly location: string;
  /** EC2 On-Demand, shared tenancy, per instance-hour, by operating system and type. A type not listed here has no price in this region's estimate. */
  readonly instanceHour: { readonly linux: Readonly<Record<string, number>>; readonly windows: Readonly<Record<string, number>> };
  /** EBS gp3 storage, per GiB-month (the baseline 3,000 IOPS and 125 MiB/s are included). */
  readonly gp3GiBMonth: number;
  /** CloudWatch: one custom metric per month, first tier (detailed monitoring is DETAILED_MONITORING_METRICS of them per instance). */
  readonly metricMonth: number;
  /** CloudWatch: one standard-resolution alarm per month. */
  readonly alarmMonth: number;
  /** CloudWatch: one dashboard per month (before the free tier's three). */
  readonly dashboardMonth: number;
  /** KMS: one customer managed key per month (its requests, a few per alarm message, are left out). */
  readonly kmsKeyMonth: number;
  /** CloudWatch Logs: ingestion per GB (standard, and vended logs such as flow logs in their first tier); storage per GB-month. */
  readonly logIngestionGb: number;
  readonly logStorageGbMonth: number;
  /** Interface VPC endpoint (PrivateLink): per endpoint and zone, per hour; per GB processed (first PB). */
  readonly interfaceEndpointHour: number;
  readonly interfaceEndpointGb: number;
  /** Network Load Balancer: per hour; per NLCU-hour. */
  readonly networkLoadBalancerHour: number;
  readonly nlcuHour: number;
  /** Transit Gateway: per VPC attachment-hour; per GB sent into the gateway. */
  readonly transitGatewayAttachmentHour: number;
  readonly transitGatewayGb: number;
  /** NAT gateway (public or private): per gateway-hour; per GB processed. */
  readonly natGatewayHour: number;
  readonly natGatewayGb: number;
  /** Route 53 Resolver endpoint: per address (ENI) per hour; per million queries through outbound endpoints (first billion). */
  readonly resolverEndpointAddressHour: number;
  readonly resolverQueriesMillion: number;
  /** Data between availability zones of the region (peering included), per GB in each direction. */
  readonly crossZoneGb: number;
}

/** The price items of a row (every field but the location). */
export type PriceItem = Exclude<keyof RegionPrices, "location">;

/** Where each item's figures come from: the Price List API offer file (service code) and the page that shows it. */
export const PRICE_SOURCES: Readonly<Record<PriceItem, string>> = {
  instanceHour: "AmazonEC2 offer file, Compute Instance, OnDemand, Shared, preInstalledSw NA (aws.amazon.com/ec2/pricing/on-demand/)",
  gp3GiBMonth: "AmazonEC2 offer file, Storage, volumeApiName gp3 (aws.amazon.com/ebs/pricing/)",
  metricMonth: "AmazonCloudWatch offer file, Metric, first 10,000 metrics (aws.amazon.com/cloudwatch/pricing/)",
  alarmMonth: "AmazonCloudWatch offer file, Alarm, standard resolution (aws.amazon.com/cloudwatch/pricing/)",
  dashboardMonth: "AmazonCloudWatch offer file, Dashboard, DashboardsUsageHour (aws.amazon.com/cloudwatch/pricing/)",
  kmsKeyMonth: "awskms offer file, KMS-Keys (aws.amazon.com/kms/pricing/)",
  logIngestionGb: "AmazonCloudWatch offer file, Data Payload, standard ingestion (aws.amazon.com/cloudwatch/pricing/)",
  logStorageGbMonth: "AmazonCloudWatch offer file, Storage Snapshot, archived logs (aws.amazon.com/cloudwatch/pricing/)",
  interfaceEndpointHour: "AmazonVPC offer file, VpcEndpoint-Hours (aws.amazon.com/privatelink/pricing/)",
  interfaceEndpointGb: "AmazonVPC offer file, VpcEndpoint-Bytes, first PB (aws.amazon.com/privatelink/pricing/)",
  networkLoadBalancerHour: "AWSELB offer file, Load Balancer-Network, LoadBalancerUsage (aws.amazon.com/elasticloadbalancing/pricing/)",
  nlcuHour: "AWSELB offer file, Load Balancer-Network, LCUUsage (aws.amazon.com/elasticloadbalancing/pricing/)",
  transitGatewayAttachmentHour: "AmazonVPC offer file, TransitGateway-Hours (aws.amazon.com/transit-gateway/pricing/)",
  transitGatewayGb: "AmazonVPC offer file, TransitGateway-Bytes (aws.amazon.com/transit-gateway/pricing/)",
  natGatewayHour: "AmazonEC2 offer file, NAT Gateway, NatGateway-Hours (aws.amazon.com/vpc/pricing/)",
  natGatewayGb: "AmazonEC2 offer file, NAT Gateway, NatGateway-Bytes (aws.amazon.com/vpc/pricing/)",
  resolverEndpointAddressHour: "AmazonRoute53 offer file, Resolver endpoint ENI-hours (aws.amazon.com/route53/pricing/)",
  resolverQueriesMillion: "AmazonRoute53 offer file, Resolver endpoint queries, first billion a month (aws.amazon.com/route53/pricing/)",
  crossZoneGb: "AWSDataTransfer offer file, IntraRegion, between zones (aws.amazon.com/ec2/pricing/on-demand/, data transfer)",
};

/** What every region of the table charges alike (AWS lists these at one price in each of them). */
const ALIKE = {
  metricMonth: 0.3,
  alarmMonth: 0.1,
  dashboardMonth: 3,
  kmsKeyMonth: 1,
  interfaceEndpointGb: 0.01,
  transitGatewayGb: 0.02,
  resolverEndpointAddressHour: 0.125,
  resolverQueriesMillion: 0.4,
  crossZoneGb: 0.01,
} as const;

/** The US regions that share N. Virginia's prices for every item here. */
const US_EAST_1_PRICES: Omit<RegionPrices, "location"> = {
  ...ALIKE,
  instanceHour: {
    linux: {
      "t3.micro": 0.0104,
      "t3.small": 0.0208,
      "t3.medium": 0.0416,
      "t3.large": 0.0832,
      "t4g.micro": 0.0084,
      "t4g.small": 0.0168,
      "t4g.medium": 0.0336,
      "t4g.large": 0.0672,
    },
    windows: { "t3.micro": 0.0196, "t3.small": 0.03, "t3.medium": 0.06, "t3.large": 0.1108 },
  },
  gp3GiBMonth: 0.08,
  logIngestionGb: 0.5,
  logStorageGbMonth: 0.03,
  interfaceEndpointHour: 0.01,
  networkLoadBalancerHour: 0.0225,
  nlcuHour: 0.006,
  transitGatewayAttachmentHour: 0.05,
  natGatewayHour: 0.045,
  natGatewayGb: 0.045,
};

/** Singapore and Sydney list the same prices for every item counted here. */
const AP_SOUTHEAST: Omit<RegionPrices, "location"> = {
  ...ALIKE,
  instanceHour: {
    linux: {
      "t3.micro": 0.0132,
      "t3.small": 0.0264,
      "t3.medium": 0.0528,
      "t3.large": 0.1056,
      "t4g.micro": 0.0106,
      "t4g.small": 0.0212,
      "t4g.medium": 0.0424,
      "t4g.large": 0.0848,
    },
    windows: { "t3.micro": 0.0224, "t3.small": 0.0356, "t3.medium": 0.0712, "t3.large": 0.1332 },
  },
  gp3GiBMonth: 0.096,
  logIngestionGb: 0.7,
  logStorageGbMonth: 0.03,
  interfaceEndpointHour: 0.013,
  networkLoadBalancerHour: 0.0252,
  nlcuHour: 0.006,
  transitGatewayAttachmentHour: 0.07,
  natGatewayHour: 0.059,
  natGatewayGb: 0.059,
};

/** The table: one row per region whose every figure is known. */
export const REGION_PRICES: Readonly<Record<string, RegionPrices>> = {
  "us-east-1": { location: "US East (N. Virginia)", ...US_EAST_1_PRICES },
  "us-east-2": { location: "US East (Ohio)", ...US_EAST_1_PRICES },
  "us-west-2": { location: "US West (Oregon)", ...US_EAST_1_PRICES },
  "eu-west-1": {
    location: "EU (Ireland)",
    ...ALIKE,
    instanceHour: {
      linux: {
        "t3.micro": 0.0114,
        "t3.small": 0.0228,
        "t3.medium": 0.0456,
        "t3.large": 0.0912,
        "t4g.micro": 0.0092,
        "t4g.small": 0.0184,
        "t4g.medium": 0.0368,
        "t4g.large": 0.0736,
      },
      windows: { "t3.micro": 0.0206, "t3.small": 0.032, "t3.medium": 0.064, "t3.large": 0.1188 },
    },
    gp3GiBMonth: 0.088,
    logIngestionGb: 0.57,
    logStorageGbMonth: 0.03,
    interfaceEndpointHour: 0.011,
    networkLoadBalancerHour: 0.0252,
    nlcuHour: 0.006,
    transitGatewayAttachmentHour: 0.05,
    natGatewayHour: 0.048,
    natGatewayGb: 0.048,
  },
  "ap-northeast-1": {
    location: "Asia Pacific (Tokyo)",
    ...ALIKE,
    instanceHour: {
      linux: {
        "t3.micro": 0.0136,
        "t3.small": 0.0272,
        "t3.medium": 0.0544,
        "t3.large": 0.1088,
        "t4g.micro": 0.0108,
        "t4g.small": 0.0216,
        "t4g.medium": 0.0432,
        "t4g.large": 0.0864,
      },
      windows: { "t3.micro": 0.0228, "t3.small": 0.0364, "t3.medium": 0.0728, "t3.large": 0.1364 },
    },
    gp3GiBMonth: 0.096,
    logIngestionGb: 0.76,
    logStorageGbMonth: 0.033,
    interfaceEndpointHour: 0.014,
    networkLoadBalancerHour: 0.0243,
    nlcuHour: 0.006,
    transitGatewayAttachmentHour: 0.07,
    natGatewayHour: 0.062,
    natGatewayGb: 0.062,
  },
  "ap-southeast-1": { location: "Asia Pacific (Singapore)", ...AP_SOUTHEAST },
  "ap-southeast-2": { location: "Asia Pacific (Sydney)", ...AP_SOUTHEAST },
};

/** The prices of a region, or undefined when the table has no row for it. */
export function pricesFor(region: string): RegionPrices | undefined {
  return Object.prototype.hasOwnProperty.call(REGION_PRICES, region) ? REGION_PRICES[region] : undefined;
}
