<?php
// Save some data for another program to read.
// netlab runs it as: php writer.php FILE
$data = ["from" => "php", "answer" => 42, "list" => [1, 2, 3]];
file_put_contents($argv[1], json_encode($data));
echo "written to " . $argv[1] . "\n";
