from qtiexport.cli import main

main()
