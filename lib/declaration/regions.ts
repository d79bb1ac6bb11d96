import { Cloud } from './props';

/**
 * Regions the library knows, with their zone suffixes (the first three are the default placement).
 * AWS zone letters are account-specific aliases; these are the letters every account has.
 */
const AWS_ZONES: Record<string, string> = {
  'us-east-1': 'abcdef', 'us-east-2': 'abc', 'us-west-1': 'bc', 'us-west-2': 'abcd',
  'ca-central-1': 'abd', 'sa-east-1': 'abc',
  'eu-west-1': 'abc', 'eu-west-2': 'abc', 'eu-west-3': 'abc', 'eu-central-1': 'abc', 'eu-central-2': 'abc',
  'eu-north-1': 'abc', 'eu-south-1': 'abc', 'eu-south-2': 'abc',
  'ap-south-1': 'abc', 'ap-southeast-1': 'abc', 'ap-southeast-2': 'abc', 'ap-southeast-3': 'abc',
  'ap-northeast-1': 'acd', 'ap-northeast-2': 'abcd', 'ap-northeast-3': 'abc', 'ap-east-1': 'abc',
  'me-central-1': 'abc', 'me-south-1': 'abc', 'af-south-1': 'abc', 'il-central-1': 'abc',
};

const GCP_ZONES: Record<string, string> = {
  'us-central1': 'abcf', 'us-east1': 'bcd', 'us-east4': 'abc', 'us-east5': 'abc', 'us-south1': 'abc',
  'us-west1': 'abc', 'us-west2': 'abc', 'us-west3': 'abc', 'us-west4': 'abc',
  'northamerica-northeast1': 'abc', 'northamerica-northeast2': 'abc', 'southamerica-east1': 'abc',
  'europe-west1': 'bcd', 'europe-west2': 'abc', 'europe-west3': 'abc', 'europe-west4': 'abc',
  'europe-west6': 'abc', 'europe-west8': 'abc', 'europe-west9': 'abc', 'europe-west10': 'abc',
  'europe-west12': 'abc', 'europe-north1': 'abc', 'europe-central2': 'abc', 'europe-southwest1': 'abc',
  'asia-east1': 'abc', 'asia-east2': 'abc', 'asia-northeast1': 'abc', 'asia-northeast2': 'abc',
  'asia-northeast3': 'abc', 'asia-south1': 'abc', 'asia-south2': 'abc', 'asia-southeast1': 'abc',
  'asia-southeast2': 'abc', 'australia-southeast1': 'abc', 'australia-southeast2': 'abc',
  'me-central1': 'abc', 'me-west1': 'abc', 'africa-south1': 'abc',
};

/** The zones of a region, or undefined for a region the library does not know. */
export function zonesOf(cloud: Cloud, region: string): string[] | undefined {
  if (cloud === Cloud.AWS) {
    const letters = Object.prototype.hasOwnProperty.call(AWS_ZONES, region) ? AWS_ZONES[region] : undefined;
    return letters === undefined ? undefined : [...letters].map((l) => `${region}${l}`);
  }
  if (cloud === Cloud.GCP) {
    const letters = Object.prototype.hasOwnProperty.call(GCP_ZONES, region) ? GCP_ZONES[region] : undefined;
    return letters === undefined ? undefined : [...letters].map((l) => `${region}-${l}`);
  }
  return undefined;
}

/** The regions the library knows for a cloud, sorted. */
export function knownRegions(cloud: Cloud): string[] {
  return Object.keys(cloud === Cloud.AWS ? AWS_ZONES : GCP_ZONES).sort();
}
