/** pcap link types (tcpdump.org's LINKTYPE registry) that wnvcap's packets carry: the one list. */
export const LINKTYPE = { ETHERNET: 1, RAW: 101, IEEE802_11: 105 } as const;
export type LinkType = (typeof LINKTYPE)[keyof typeof LINKTYPE];
