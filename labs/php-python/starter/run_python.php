<?php
// Run helper.py with a value, and show what Python answered.
// netlab runs it as: php run_python.php PYTHON VALUE
[$script, $python, $value] = $argv;
exec($python . " helper.py " . $value, $output, $status);
echo implode("\n", $output) . "\n";
exit($status);
