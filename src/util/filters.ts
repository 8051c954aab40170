/** The filters a capture ran with, as run.json records them and the report shows them. */
export interface CaptureFilters {
  ips: string[];
  protocols: number[];
  macs: string[];
  etherTypes: number[];
  /** Bytes kept of each packet; 0 = whole packets. */
  truncate: number;
  captureType: string;
}
