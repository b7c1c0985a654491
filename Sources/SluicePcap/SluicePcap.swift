// Placeholder until the pcap layer lands.
