module gatehouse.local/bench/gatebench

go 1.22
