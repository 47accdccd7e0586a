from cityops.manage import main

main()
