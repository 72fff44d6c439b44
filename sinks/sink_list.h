/* sink_list.h - the sink registry (X-macro): one line per sink. */
HM_SINK(jsonl)
HM_SINK(sqlite)
