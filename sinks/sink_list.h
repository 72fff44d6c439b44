/* sink_list.h - the sink registry (X-macro): one line per sink. */
HM_SINK(jsonl)
HM_SINK(kafka)
HM_SINK(sqlite)
HM_SINK(redis)
HM_SINK(webhook)
HM_SINK(cef_udp)
HM_SINK(cef_tcp)
