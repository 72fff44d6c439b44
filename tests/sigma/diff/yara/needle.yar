rule HM_Diff_Needle {
  strings:
    $a = "yara-needle"
    $b = { 79 61 72 61 2D 6E 65 65 64 6C 65 }
  condition:
    $a or $b
}

rule HM_Diff_Twice {
  strings:
    $a = "yara-needle" nocase
  condition:
    #a >= 1 and filesize < 2000
}
