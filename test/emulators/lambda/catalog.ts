// Static Lambda Cloud catalogue: regions, instance types and images, with values taken from
// the recorded responses in ../shared/contracts/lambda/example-m_*.json and the
// PublicRegionCode enum of openapi-1.8.3.json.
import { createHash } from "node:crypto";

export interface RegionWire {
  name: string;
  description: string;
}

export const REGIONS: Record<string, string> = {
  "europe-central-1": "Germany",
  "asia-south-1": "India",
  "australia-east-1": "Sydney, Australia",
  "me-west-1": "Israel",
  "asia-northeast-1": "Osaka, Japan",
  "asia-northeast-2": "Tokyo, Japan",
  "us-east-1": "Virginia, USA",
  "us-west-2": "Arizona, USA",
  "us-west-1": "California, USA",
  "us-south-1": "Texas, USA",
  "us-west-3": "Utah, USA",
  "us-midwest-1": "Illinois, USA",
  "us-east-2": "Washington DC, USA",
  "us-south-2": "North Texas, USA",
  "us-south-3": "Central Texas, USA",
  "us-east-3": "Washington DC, USA",
  "us-midwest-2": "Ohio, USA",
};

export function regionWire(name: string): RegionWire {
  return { name, description: REGIONS[name] ?? name };
}

export interface InstanceTypeWire {
  name: string;
  description: string;
  gpu_description: string;
  price_cents_per_hour: number;
  specs: { vcpus: number; memory_gib: number; storage_gib: number; gpus: number };
}

type TypeRow = [name: string, gpu: string, gpus: number, cents: number, vcpus: number, memGib: number, diskGib: number];
const TYPE_ROWS: TypeRow[] = [
  ["gpu_1x_a10", "A10 (24 GB PCIe)", 1, 75, 30, 200, 1400],
  ["gpu_1x_a100_sxm4", "A100 (40 GB SXM4)", 1, 129, 30, 200, 512],
  ["gpu_8x_a100", "A100 (40 GB SXM4)", 8, 1032, 124, 1800, 6144],
  ["gpu_1x_h100_pcie", "H100 (80 GB PCIe)", 1, 249, 26, 200, 1024],
  ["gpu_1x_h100_sxm5", "H100 (80 GB SXM5)", 1, 329, 26, 225, 2816],
  ["gpu_8x_h100_sxm5", "H100 (80 GB SXM5)", 8, 2392, 208, 1800, 22528],
  ["gpu_1x_gh200", "GH200 (96 GB)", 1, 149, 64, 432, 4096],
  ["cpu_4x_general", "N/A", 0, 20, 4, 16, 100],
];

export const INSTANCE_TYPES: InstanceTypeWire[] = TYPE_ROWS.map(([name, gpu, gpus, cents, vcpus, mem, disk]) => ({
  name,
  description: gpus === 0 ? `${vcpus}x CPU General (${mem} GiB)` : `${gpus}x ${gpu}`,
  gpu_description: gpu,
  price_cents_per_hour: cents,
  specs: { vcpus, memory_gib: mem, storage_gib: disk, gpus },
}));

export function instanceType(name: string): InstanceTypeWire | undefined {
  return INSTANCE_TYPES.find((t) => t.name === name);
}

/** Machines free per region and type; launching takes one, terminating gives it back. */
export type CapacityTable = Record<string, Record<string, number>>;

export const DEFAULT_CAPACITY: CapacityTable = {
  "us-east-1": { gpu_1x_a10: 4, gpu_1x_a100_sxm4: 2, gpu_8x_a100: 1, cpu_4x_general: 4 },
  "us-west-1": { gpu_1x_a10: 2 },
  "us-south-2": { gpu_1x_h100_sxm5: 2, gpu_8x_h100_sxm5: 1 },
};

export interface ImageWire {
  id: string;
  created_time: string;
  updated_time: string;
  name: string;
  description: string;
  family: string;
  version: string;
  architecture: "x86_64" | "arm64";
  region: RegionWire;
}

type ImageRow = [family: string, name: string, description: string, version: string];
const IMAGE_ROWS: ImageRow[] = [
  ["lambda-stack-22-04", "Lambda Stack 22.04", "AI ready GPU image with CUDA, Docker, and ML frameworks", "22.4.5-1459"],
  ["lambda-stack-24-04", "Lambda Stack 24.04", "AI ready GPU image with CUDA, Docker, and ML frameworks", "24.4.2-1459"],
  ["gpu-base-24-04", "GPU Base 24.04", "GPU base image with CUDA and Docker enabled", "24.4.2-1459"],
  ["ubuntu-22-04", "Ubuntu 22.04.5 LTS", "Ubuntu Server 22.04 LTS", "22.4.5-20250702"],
];
const IMAGE_REGIONS = ["us-east-1", "us-west-1", "us-south-2"];

/** Stable UUID-shaped ids, so a test can launch with an image id it read earlier. */
function imageId(family: string, region: string): string {
  const hex = createHash("sha256").update(`${family}@${region}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const IMAGES: ImageWire[] = IMAGE_REGIONS.flatMap((region) =>
  IMAGE_ROWS.map(([family, name, description, version]) => ({
    id: imageId(family, region),
    created_time: "2025-07-07T19:17:40.440000+00:00",
    updated_time: "2025-08-20T00:46:31.868000+00:00",
    name,
    description,
    family,
    version,
    architecture: "x86_64" as const,
    region: regionWire(region),
  })),
);
